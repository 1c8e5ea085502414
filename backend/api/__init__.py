"""HTTP: routes (one module per resource), their dependencies, bodies and the error shape."""
