// tofu: TOFU_API marks what the library exports; everything else stays hidden in a shared build.
#pragma once

#if defined(_WIN32) && defined(TOFU_SHARED)
#if defined(TOFU_BUILDING)
#define TOFU_API __declspec(dllexport)
#else
#define TOFU_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define TOFU_API __attribute__((visibility("default")))
#else
#define TOFU_API
#endif

// For the library's own internals that would otherwise inherit an exported class's visibility.
#if defined(__GNUC__) || defined(__clang__)
#define TOFU_HIDDEN __attribute__((visibility("hidden")))
#else
#define TOFU_HIDDEN
#endif
