"""python -m scraping.demo_marketplace [--host 127.0.0.1] [--port 8001]"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scraping.demo_marketplace",
        description="Serve the demo watch shops on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)

    from .server import is_loopback, make_server

    if not is_loopback(args.host):
        parser.error(f"the demo marketplace serves only on loopback, not on {args.host}")

    # The shops read the demo catalog, which lives beside Django models.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "watchprice.settings")
    import django

    django.setup()
    from .inventory import inventory

    shops = inventory().shops
    server = make_server(args.host, args.port)
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{server.server_port}"
    print(f"Demo marketplace at {url}/ with {len(shops)} shops:", flush=True)
    for slug, shop in shops.items():
        print(f"  {shop.name:<20} {url}/{slug}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
