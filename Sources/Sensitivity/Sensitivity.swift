// The Sensitivity module; see DESIGN.md §2.
