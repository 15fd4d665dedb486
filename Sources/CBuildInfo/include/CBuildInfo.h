// The git revision the binary was built from, for `kappa --version`.
#ifndef KAPPA_CBUILDINFO_H
#define KAPPA_CBUILDINFO_H

/// The short git revision ("95f16ea"; "95f16ea-dirty" when the work tree had uncommitted
/// changes), or "unknown" when the build was given none (plain `swift build`, a source tree
/// without .git). A static string: the caller never frees it.
const char *kappa_git_revision(void);

#endif
