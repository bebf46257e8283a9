# Warning flags shared by every Courier target.
add_library(courier_warnings INTERFACE)
target_compile_options(courier_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Wunused -Woverloaded-virtual -Wnull-dereference
  -Wno-unused-local-typedefs  # local actor classes declare `handles` for spawn<> to read
  $<$<BOOL:${COURIER_WERROR}>:-Werror>)
# g++ 12 reports -Wrestrict on libstdc++'s own std::string concatenation at
# -O3 (GCC bug 105329), a false positive no caller can avoid.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(courier_warnings INTERFACE -Wno-restrict)
endif()
