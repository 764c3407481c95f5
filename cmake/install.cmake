# `cmake --install`: the library, the public headers, the kerasrt CLI, a CMake package
# (find_package(kerasrt CONFIG) -> kerasrt::kerasrt) and a pkg-config file.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set_target_properties(kerasrt PROPERTIES EXPORT_NAME kerasrt VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
install(TARGETS kerasrt EXPORT kerasrtTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/kerasrt DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(TARGETS kerasrt_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(KERASRT_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/kerasrt)
install(EXPORT kerasrtTargets NAMESPACE kerasrt:: DESTINATION ${KERASRT_CMAKE_DIR})
if(NOT DEFINED BUILD_SHARED_LIBS)
  set(BUILD_SHARED_LIBS OFF)
endif()
configure_package_config_file(cmake/kerasrtConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/kerasrtConfig.cmake
                              INSTALL_DESTINATION ${KERASRT_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/kerasrtConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/kerasrtConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/kerasrtConfigVersion.cmake
        DESTINATION ${KERASRT_CMAKE_DIR})

# The .pc file locates the prefix from its own folder (${pcfiledir}), so the installed tree can
# be moved and `cmake --install --prefix P` needs no reconfiguration.
file(RELATIVE_PATH KERASRT_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(cmake/kerasrt.pc.in ${CMAKE_CURRENT_BINARY_DIR}/kerasrt.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/kerasrt.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
