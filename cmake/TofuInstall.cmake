# Install rules and package files, in the {fmt} manner: targets exported under tofu::, a small config
# that finds what the public headers need, a version file, a build-tree export and a pkg-config file.
include(CMakePackageConfigHelpers)

set(TOFU_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/tofu")

install(TARGETS tofu EXPORT tofu-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/tofu DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
install(FILES "${PROJECT_BINARY_DIR}/include/tofu/version.hpp" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tofu)
install(EXPORT tofu-targets NAMESPACE tofu:: FILE tofuTargets.cmake DESTINATION ${TOFU_CMAKE_DIR})

configure_package_config_file(cmake/tofuConfig.cmake.in "${PROJECT_BINARY_DIR}/tofuConfig.cmake"
                              INSTALL_DESTINATION ${TOFU_CMAKE_DIR})
write_basic_package_version_file("${PROJECT_BINARY_DIR}/tofuConfigVersion.cmake"
                                 COMPATIBILITY SameMajorVersion)
install(FILES "${PROJECT_BINARY_DIR}/tofuConfig.cmake" "${PROJECT_BINARY_DIR}/tofuConfigVersion.cmake"
        DESTINATION ${TOFU_CMAKE_DIR})

# Build-tree export: find_package(tofu) works against a build directory too.
export(EXPORT tofu-targets NAMESPACE tofu:: FILE "${PROJECT_BINARY_DIR}/tofuTargets.cmake")

# tofu.pc finds its prefix from where it lies (${pcfiledir}), so an install tree moved elsewhere still works.
file(RELATIVE_PATH TOFU_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" TOFU_PC_TO_PREFIX "${TOFU_PC_TO_PREFIX}")
configure_file(cmake/tofu.pc.in "${PROJECT_BINARY_DIR}/tofu.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/tofu.pc" DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
