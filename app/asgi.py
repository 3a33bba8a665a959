"""The ASGI entry point for uvicorn and other servers."""

from app.main import create_app

app = create_app()
