import Testing

extension Tag {
    /// Tests that take tens of seconds on 2 cores (full-size models, long fuzz runs). `make test`
    /// runs them; `make test-fast` skips them while iterating.
    @Tag static var slow: Self
}
