// `make release` / `make install` compile a one-line object that defines
// `kappa_build_revision` strongly (.build/kappa-buildinfo/rev-<revision>.o, see the Makefile)
// and hand it to the linker with `-Xlinker`; the strong definition replaces the weak one
// below. The object's name carries the revision, so a new revision changes only the link
// command: SwiftPM relinks and compiles nothing. Plain `swift build` links no such object
// and the binary reports "unknown" (never a stale revision).
#include "CBuildInfo.h"

__attribute__((weak)) const char kappa_build_revision[] = "unknown";

const char *kappa_git_revision(void) { return kappa_build_revision; }
