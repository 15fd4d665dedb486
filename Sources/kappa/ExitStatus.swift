/// Kappa's exit codes, in one place (the convention of ruff and ESLint).
enum ExitStatus: Int32 {
    /// Clean: the analysis ran and no gate failed.
    case clean = 0
    /// A gate failed (`kappa check` over its budget).
    case gateFailed = 1
    /// Usage, I/O or model error.
    case error = 2
}
