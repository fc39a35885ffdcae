# Cross-compiles tofu for 64-bit Windows with Debian's mingw-w64 (the posix thread model: std::thread and
# std::mutex need it). Tests run under Wine through CMAKE_CROSSCOMPILING_EMULATOR.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(TOFU_MINGW_PREFIX x86_64-w64-mingw32)

find_program(CMAKE_CXX_COMPILER NAMES ${TOFU_MINGW_PREFIX}-g++-posix REQUIRED)
find_program(CMAKE_RC_COMPILER NAMES ${TOFU_MINGW_PREFIX}-windres)

# Only the target's own tree is searched for libraries, headers and packages: the host's /usr/include
# never reaches the cross compiler (header-only dependencies are staged by TofuDependencies.cmake).
set(CMAKE_FIND_ROOT_PATH /usr/${TOFU_MINGW_PREFIX})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Self-contained executables: Wine (or a bare Windows) finds no libstdc++/libgcc/winpthread DLLs.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")

find_program(TOFU_WINE NAMES wine wine64)
if(TOFU_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${TOFU_WINE})
endif()
