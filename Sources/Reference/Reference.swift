// The Reference module; see DESIGN.md §2.
