// The Linalg module; see DESIGN.md §2.
