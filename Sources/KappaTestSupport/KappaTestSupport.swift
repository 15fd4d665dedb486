// The KappaTestSupport module; see DESIGN.md §2.
