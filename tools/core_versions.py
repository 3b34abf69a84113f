"""Prints the versions the Odoo-free tier runs on (Python, lxml and its libxml2, requests)."""

import platform

import requests
from lxml import etree

libxml2 = ".".join(map(str, etree.LIBXML_VERSION))
print(
    f"Python {platform.python_version()}, lxml {etree.__version__} (libxml2 {libxml2}),"
    f" requests {requests.__version__}"
)
