#ifndef HPOD_CLAPACK_SHIM_H
#define HPOD_CLAPACK_SHIM_H
// LAPACKE (row/column-major C interface to LAPACK) and CBLAS-free BLAS are all the GP needs.
#include <lapacke.h>
#endif
