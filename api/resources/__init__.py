"""HTTP resources: one class per URL family. They translate HTTP to domain calls and back, nothing more."""
