"""Media in lessons: images, call recordings and videos from course folders or uploads, stored once per
content (sha256) and served by the app with caching headers and byte ranges."""
