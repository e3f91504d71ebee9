"""The portfolio as a PDF (WeasyPrint). Photos are read from the photo storage, never over the
network; any other URL is refused."""

from __future__ import annotations

from urllib.parse import urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

from portfolio.journal.models import Photo
from portfolio.journal.storage import PhotoStorage
from portfolio.pdf import html_to_pdf

BASE_URL = "https://ticketnet.invalid/"


class PhotoFetcher(URLFetcher):
    """Answers ``/journal/photos/<id>/<size>`` from the storage for the photos given, nothing else."""

    def __init__(self, storage: PhotoStorage, photos: list[Photo]) -> None:
        super().__init__(allowed_protocols=["https"])
        self.storage = storage
        self.photos = {p.id: p for p in photos}

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        segments = parts.path.strip("/").split("/")
        if parts.netloc != "ticketnet.invalid" or len(segments) != 4 or segments[:2] != ["journal", "photos"]:
            raise ValueError(f"refused in a PDF: {url}")
        photo = self.photos.get(int(segments[2])) if segments[2].isdigit() else None
        if photo is None:
            raise ValueError(f"unknown photo: {url}")
        key = photo.thumbnail_key if segments[3] == "miniature" else photo.storage_key
        return URLFetcherResponse(url, body=self.storage.read(key), headers={"Content-Type": photo.content_type})


def render_pdf(html: str, storage: PhotoStorage, photos: list[Photo]) -> bytes:
    return html_to_pdf(html, "css/portfolio-pdf.css", base_url=BASE_URL, url_fetcher=PhotoFetcher(storage, photos))
