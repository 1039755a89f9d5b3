"""The console's fixtures: a database of its own (customers, model functions, offers log), the
console app over it, the app served on 127.0.0.1, and Debian's chromium driven through chromedriver.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from churnguard.console.app import build_app
from churnguard.console.server import serving_in_background
from churnguard.console.service import ConsoleService, opened_per_call
from churnguard.console.sign_in import new_token, signed_in_url
from churnguard.db import connect
from churnguard.engine.offers_log import Actor
from churnguard.engine.recommend import Engine
from churnguard.sqlgen.statements import customer_score_sql
from tests.engine.faults import install_customers
from tests.fixtures.agents import fresh_agent
from tests.fixtures.mariadb import scratch_database

BUDGET_S = 5.0
HIGH_RISK = {"area_code": 415, "phone": "358-1921"}
LOW_RISK = {"area_code": 408, "phone": "375-9999"}
NEGATIVE_MESSAGE = "You morons! You charged me extra again!"
# The run's token of every console the tests serve, as `churnguard console` makes one per run.
CONSOLE_TOKEN = new_token()


@pytest.fixture(scope="session")
def console_db_url(mariadb_url: str, trained_model_dir: Path) -> Iterator[str]:
    """A database prepared as `churnguard local up` prepares one (the reference customers included)."""
    with scratch_database(mariadb_url, "console") as url:
        client = connect(url)
        try:
            install_customers(client, trained_model_dir)
        finally:
            client.close()
        yield url


@pytest.fixture(scope="session")
def console_engine(trained_model_dir: Path) -> Engine:
    return Engine.load(trained_model_dir)


@contextmanager
def service_on(
    url: str, engine: Engine, budget_s: float = BUDGET_S, actor: Actor | None = None
) -> Iterator[ConsoleService]:
    """The console's service on the database at `url`, as `churnguard console` builds it: a client
    opened for each call; by default for an agent with no offers yet."""
    yield ConsoleService(
        engine=engine,
        clients=opened_per_call(lambda deadline: connect(url, deadline=deadline)),
        budget_s=budget_s,
        actor=actor or Actor(fresh_agent()),
    )


def signed_in_client(service: ConsoleService) -> TestClient:
    """A client of the console's app in-process, sending the run's token as a program would (a
    bearer header); requests go to http://127.0.0.1 as a browser's would."""
    app = build_app(service, token=CONSOLE_TOKEN)
    return TestClient(app, base_url="http://127.0.0.1", headers={"authorization": f"Bearer {CONSOLE_TOKEN}"})


@contextmanager
def app_on(url: str, engine: Engine, budget_s: float = BUDGET_S) -> Iterator[TestClient]:
    """The console's app in-process on `url`, signed in."""
    with service_on(url, engine, budget_s) as service, signed_in_client(service) as client:
        yield client


@pytest.fixture()
def api(console_db_url: str, console_engine: Engine) -> Iterator[TestClient]:
    with app_on(console_db_url, console_engine) as client:
        yield client


@pytest.fixture(scope="session")
def experiment_customer(console_db_url: str, console_engine: Engine) -> dict:
    """A customer whose churn probability puts a negative message in the default rules' experiment
    band (0.4, 0.8]: their answer draws an arm, and the offers report counts outcomes per arm."""
    client = connect(console_db_url)
    try:
        for key in client.query("SELECT area_code, phone FROM customers ORDER BY area_code, phone"):
            (row,) = client.query(customer_score_sql(console_engine.explainer.spec), key)
            if 0.45 < float(row["churn_probability"]) <= 0.75:
                return {"area_code": int(key["area_code"]), "phone": str(key["phone"])}
    finally:
        client.close()
    raise AssertionError("no customer in the experiment's risk band in the synthetic data")


@pytest.fixture()
def console_url(console_db_url: str, console_engine: Engine) -> Iterator[str]:
    """The address `churnguard console` prints (with its token) of the console served by uvicorn on
    a free port of 127.0.0.1, for an agent of its own: one test's offers are never another's repeats."""
    with service_on(console_db_url, console_engine) as service, serving_console(service) as url:
        yield url


@contextmanager
def serving_console(service: ConsoleService) -> Iterator[str]:
    """The console for `service` served on a free port; yields the address with the run's token."""
    with serving_in_background(build_app(service, token=CONSOLE_TOKEN)) as url:
        yield signed_in_url(url, CONSOLE_TOKEN)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless chromium (Debian's package) through Debian's chromedriver: nothing is downloaded."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, (
        "the console's page tests need Debian's chromium and chromium-driver: "
        "apt-get install -y chromium chromium-driver (make install does)"
    )
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1366,900"):
        options.add_argument(argument)
    session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    session.set_page_load_timeout(30)
    try:
        yield session
    finally:
        session.quit()
