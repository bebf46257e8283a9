# Installs the libraries and headers and exports courier-config.cmake so that
# consumers can find_package(courier) and link courier::runtime / courier::bus.
include(CMakePackageConfigHelpers)

set(courier_install_targets courier_runtime courier_warnings)
if(TARGET courier_bus)
  list(APPEND courier_install_targets courier_bus)
endif()
if(TARGET courier_sim)
  list(APPEND courier_install_targets courier_sim)
endif()
install(TARGETS ${courier_install_targets} EXPORT courier-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY runtime/include/ bus/include/ sim/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(courier_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/courier)
install(EXPORT courier-targets NAMESPACE courier:: DESTINATION ${courier_cmake_dir})
configure_package_config_file(cmake/courier-config.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/courier-config.cmake INSTALL_DESTINATION ${courier_cmake_dir})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/courier-config-version.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/courier-config.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/courier-config-version.cmake
        DESTINATION ${courier_cmake_dir})
