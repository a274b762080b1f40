"""Real-browser tests: JupyterLab driven by headless Chromium through Playwright."""
