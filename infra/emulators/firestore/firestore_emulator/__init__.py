"""A Firestore emulator speaking the google.firestore.v1.Firestore gRPC API."""

__version__ = "0.1.0"
