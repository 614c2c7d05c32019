//! Workspace-level examples and integration tests.
