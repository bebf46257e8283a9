#!/bin/sh
# Turns `courier-bench --compare <scenario>` output into an SVG bar chart, one
# panel per scenario, one bar per implementation (the median of its runs).
# Scenarios without peers plot their own series instead: routing its cost per
# publish at each subscription count, dedupe its throughput without and with
# the window.
#
#   build/release/bench/courier-bench --compare fanout --runs 3 > out.jsonl
#   bench/chart.sh out.jsonl [more.jsonl ...] > docs/bench-bus.svg
set -eu
[ $# -ge 1 ] || { echo "usage: $0 compare-output.jsonl... > chart.svg" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One "scenario label value" row per run and plotted figure.
awk '
  function field(key,   m) {
    if (match($0, "\"" key "\":[-0-9.e+]+")) return substr($0, RSTART + length(key) + 3, RLENGTH - length(key) - 3)
    return ""
  }
  function text(key) {
    if (match($0, "\"" key "\":\"[^\"]*\"")) return substr($0, RSTART + length(key) + 4, RLENGTH - length(key) - 5)
    return ""
  }
  function emit(label, v) { if (v != "") print sc, label, v }
  /"scenario":/ {
    sc = text("scenario"); impl = text("impl")
    if (sc == "reqrep") { emit(impl "_p50", field("p50_ns")); emit(impl "_p99", field("p99_ns")) }
    else if (sc == "routing") {
      emit("10_subs", field("ns_per_publish_10")); emit("1e3_subs", field("ns_per_publish_1000"))
      emit("1e5_subs", field("ns_per_publish_100000"))
    } else if (sc == "dedupe") { emit("no_window", field("ops_per_sec_without")); emit("1e6_window", field("ops_per_sec")) }
    else emit(impl, field("ops_per_sec"))
  }' "$@" > "$work/rows"

# Medians per (scenario, label), in first-seen order.
awk '{ k = $1 " " $2; if (!(k in n)) order[++count] = k; v[k, ++n[k]] = $3 }
  END {
    for (i = 1; i <= count; ++i) {
      k = order[i]; m = n[k]
      for (a = 1; a <= m; ++a) for (b = a + 1; b <= m; ++b) if (v[k, b] < v[k, a]) { t = v[k, a]; v[k, a] = v[k, b]; v[k, b] = t }
      print k, v[k, int((m + 1) / 2)]
    }
  }' "$work/rows" > "$work/medians"

scenarios=$(awk '!seen[$1]++ { print $1 }' "$work/medians")
count=$(echo "$scenarios" | wc -w)
[ "$count" -gt 0 ] || { echo "$0: no benchmark lines in the input" >&2; exit 1; }
cols=$(( count < 3 ? count : 3 ))
rows=$(( (count + cols - 1) / cols ))

{
  echo "set terminal svg size $((cols * 420)),$((rows * 320)) dynamic font 'sans,11'"
  echo "set style fill solid 0.8 border -1; set boxwidth 0.6; set grid ytics; set yrange [0:*]"
  echo "set xtics noenhanced; set title noenhanced; set format y '%.1s%c'; set offsets 0,0,graph 0.08,0"
  echo "set multiplot layout $rows,$cols"
  for sc in $scenarios; do
    awk -v s="$sc" '$1 == s { print $2, $3 }' "$work/medians" > "$work/$sc.dat"
    case $sc in
      reqrep) unit="round-trip latency (ns, lower is better)" ;;
      routing) unit="ns per publish (flat is the goal)" ;;
      *) unit="messages/s (higher is better)" ;;
    esac
    echo "set title '$sc'; set ylabel '$unit'"
    echo "plot '$work/$sc.dat' using 0:2:xtic(1) with boxes notitle lc rgb '#4682b4', \\"
    echo "     '' using 0:2:(gprintf('%.1s%c', \$2)) with labels offset 0,0.7 notitle"
  done
  echo "unset multiplot"
} > "$work/plot.gp"
gnuplot "$work/plot.gp"
