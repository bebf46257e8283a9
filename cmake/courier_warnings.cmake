# Warning flags shared by every Courier target.
add_library(courier_warnings INTERFACE)
target_compile_options(courier_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Wunused -Woverloaded-virtual -Wnull-dereference
  -Wno-unused-local-typedefs  # local actor classes declare `handles` for spawn<> to read
  $<$<BOOL:${COURIER_WERROR}>:-Werror>)
