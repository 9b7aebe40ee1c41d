"""Transactional email: message texts (`messages`), the durable outbox (`outbox`), the Resend transport."""
