// Which OpenBLAS kernels this process runs, and the one correction Kappa makes to that choice.
#ifndef KAPPA_CBLASCORE_H
#define KAPPA_CBLASCORE_H

/// The OpenBLAS core whose kernels this process uses ("SkylakeX", "Haswell", …), or "unknown"
/// when the library does not say (not OpenBLAS, or a build without `openblas_get_corename`).
/// A static string: the caller never frees it.
const char *kappa_blas_core(void);

/// The core OpenBLAS picked by itself when Kappa replaced that choice at start-up (see
/// BLASCore.c), else NULL. A static string.
const char *kappa_blas_replaced_core(void);

#endif
