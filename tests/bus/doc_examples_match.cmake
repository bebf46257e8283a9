# Checks that every block between `// doc: <name>` and `// doc: end` in
# tests/bus/test_doc_examples.cpp appears, line for line, in a code block of
# docs/bus.md: the page shows what the tests compile. Indentation is not
# compared (a block inside a test body is indented, the page's is not).
# Usage: cmake -DSOURCE=<test_doc_examples.cpp> -DPAGE=<bus.md> -P doc_examples_match.cmake

file(READ "${SOURCE}" source)
file(READ "${PAGE}" page)

# CMake lists split at ';', which C++ is full of: stand it in for a marker.
function(lines_of text out)
  string(REPLACE ";" "<semicolon>" text "${text}")
  string(REPLACE "\n" ";" text "${text}")
  set(result "")
  foreach(line IN LISTS text)
    string(STRIP "${line}" line)
    list(APPEND result "${line}")
  endforeach()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

lines_of("${page}" page_lines)
string(REPLACE ";" "\n" page_text "${page_lines}")
set(page_text "\n${page_text}\n")

lines_of("${source}" source_lines)
set(name "")
set(blocks 0)
set(missing "")
foreach(line IN LISTS source_lines)
  if(line MATCHES "^// doc: end$")
    math(EXPR blocks "${blocks} + 1")
    string(REPLACE ";" "\n" block "${block_lines}")
    string(FIND "${page_text}" "\n${block}\n" at)
    if(at EQUAL -1)
      list(APPEND missing "${name}")
    endif()
    set(name "")
  elseif(line MATCHES "^// doc: (.+)$")
    set(name "${CMAKE_MATCH_1}")
    set(block_lines "")
  elseif(NOT name STREQUAL "")
    list(APPEND block_lines "${line}")
  endif()
endforeach()

if(blocks EQUAL 0)
  message(FATAL_ERROR "no `// doc:` blocks found in ${SOURCE}")
endif()
if(missing)
  string(REPLACE ";" ", " missing "${missing}")
  message(FATAL_ERROR "${PAGE} does not show these blocks of ${SOURCE} as compiled: ${missing}")
endif()
message(STATUS "${blocks} example blocks of ${SOURCE} appear in ${PAGE}")
