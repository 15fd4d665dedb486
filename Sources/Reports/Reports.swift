// The Reports module; see DESIGN.md §2.
