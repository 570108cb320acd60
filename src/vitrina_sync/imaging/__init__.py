"""Image loading, cutouts, compositing and QA figures."""
