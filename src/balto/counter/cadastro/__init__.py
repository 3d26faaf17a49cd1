"""Registration of clientes (pharmacy chains) and balcões (counters): validation and secrets."""
