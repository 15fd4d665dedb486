// OpenBLAS kernel selection at process start.
//
// A DYNAMIC_ARCH OpenBLAS (Debian's libopenblas0-pthread) picks its kernels once, when it is
// loaded, from the CPU's family/model numbers. A CPU newer than the library (OpenBLAS 0.3.21 on
// an Emerald Rapids Xeon, family 6 model 207) is not in its table, and the library falls back
// to the "Prescott" kernels: SSE3 only, 2-4x slower than the AVX-512 or AVX2 kernels the CPU
// runs. The constructor below repairs exactly that case, before any code of ours runs:
//   - only when OpenBLAS reports "Prescott" (its fallback) and the user has not chosen a core
//     with OPENBLAS_CORETYPE (that choice is always kept);
//   - only when the CPU and the OS support the instructions of the replacement: AVX-512 F, CD,
//     BW, DQ and VL with the ZMM/opmask state enabled in XCR0 for "SkylakeX", else AVX2 and FMA
//     with the YMM state enabled for "Haswell" (the checks OpenBLAS itself makes for these cores);
//   - through the library's own entry points, looked up at run time: gotoblas_dynamic_quit()
//     forgets the table, gotoblas_dynamic_init() reads OPENBLAS_CORETYPE and installs the new
//     one. Without those symbols (a single-architecture build, another BLAS) nothing happens.
// Shared-library constructors run before the executable's, so OpenBLAS is initialised here and
// no BLAS call has been made; its worker threads are idle and read the kernel table per call.
// The kernels compute the same products with other summation orders, so results change in the
// last bits only; every rounding bound in Linalg holds for any order.
#include "CBLASCore.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

static const char *replaced_core = NULL;

typedef char *(*corename_fn)(void);
typedef void (*void_fn)(void);

const char *kappa_blas_core(void) {
    corename_fn name = (corename_fn)dlsym(RTLD_DEFAULT, "openblas_get_corename");
    const char *core = name ? name() : NULL;
    return core ? core : "unknown";
}

const char *kappa_blas_replaced_core(void) { return replaced_core; }

#if defined(__x86_64__)
static unsigned long long xcr0(void) {
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

/// "SkylakeX", "Haswell" or NULL: the best of the two cores this CPU and OS can run.
static const char *supported_core(void) {
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return NULL;
    const int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    if (!osxsave || !avx) return NULL;
    const unsigned long long state = xcr0();
    if ((state & 0x6) != 0x6) return NULL;                    // XMM and YMM state
    if (__get_cpuid_max(0, NULL) < 7) return NULL;
    __cpuid_count(7, 0, a, b, c, d);
    const int avx2 = (b >> 5) & 1;
    const int avx512 = ((b >> 16) & 1) && ((b >> 17) & 1) && ((b >> 28) & 1) && ((b >> 30) & 1) && ((b >> 31) & 1);
    if (avx512 && (state & 0xE0) == 0xE0) return "SkylakeX";  // + opmask, ZMM0-15 high, ZMM16-31
    if (avx2 && fma) return "Haswell";
    return NULL;
}

__attribute__((constructor)) static void kappa_select_blas_core(void) {
    if (getenv("OPENBLAS_CORETYPE") != NULL) return;
    corename_fn name = (corename_fn)dlsym(RTLD_DEFAULT, "openblas_get_corename");
    void_fn quit = (void_fn)dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit");
    void_fn init = (void_fn)dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init");
    if (!name || !quit || !init) return;
    const char *current = name();
    if (current == NULL || strcasecmp(current, "Prescott") != 0) return;
    const char *better = supported_core();
    if (better == NULL) return;
    if (setenv("OPENBLAS_CORETYPE", better, 1) != 0) return;
    quit();
    init();
    unsetenv("OPENBLAS_CORETYPE");
    const char *now = name();
    if (now != NULL && strcasecmp(now, "Prescott") != 0) replaced_core = "Prescott";
}
#endif
