"""Screenshot the demo run's page on the dashboard, as ``docs/dashboard.png`` shows it.

    .venv/bin/python docs/dashboard_screenshot.py              # runs `wattwise demo` first
    .venv/bin/python docs/dashboard_screenshot.py --db runs.db --run 1

Runs ``wattwise demo`` into a fresh database (unless ``--db`` names one), serves it with
the dashboard on a free local port, opens the run's page in headless Chromium (Debian's
``chromium`` and ``chromium-driver``, driven by Selenium), waits for the power chart to
be drawn, and saves the whole page. It fails where the page logs an error.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, default=None, help="a run database (default: run the demo)")
    ap.add_argument("--run", default="1", help="the run to show")
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("dashboard.png"))
    ap.add_argument("--width", type=int, default=1200)
    args = ap.parse_args()
    import uvicorn
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from wattwise.server import create_app

    with tempfile.TemporaryDirectory() as tmp:
        db = args.db
        if db is None:
            db = Path(tmp) / "runs.db"
            subprocess.run([str(Path(sys.executable).with_name("wattwise")), "demo", "--db",
                            str(db)], check=True, stdout=subprocess.DEVNULL)
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(db, port=port), host="127.0.0.1",
                                               port=port, log_level="error"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", f"--window-size={args.width},1000",
                    f"--user-data-dir={Path(tmp) / 'profile'}"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(options=options, service=Service(
            executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver"))
        try:
            driver.get(f"http://127.0.0.1:{port}/#/run/{args.run}")
            WebDriverWait(driver, 30).until(
                lambda d: d.find_elements(By.CSS_SELECTOR, "#chart-power canvas"))
            time.sleep(0.5)
            height = driver.execute_script("return document.body.scrollHeight")
            driver.set_window_size(args.width, int(height) + 40)
            time.sleep(0.5)
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            if errors:
                raise SystemExit(f"the page logged errors: {errors}")
            driver.save_screenshot(str(args.out))
        finally:
            driver.quit()
            server.should_exit = True
            thread.join(timeout=10)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
