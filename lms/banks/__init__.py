"""Question banks: files and uploads in, exports out, authoring in the browser."""
