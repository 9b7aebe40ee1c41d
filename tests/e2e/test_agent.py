"""An agent registers itself with nothing but a fresh agent token and the registry's base URL.

The holder's part (a purchase, then an agent token) is set up first. From there the test is the agent: it reads
/llms.txt, follows its link to the JSON instructions, and does every step at the URL the instructions give —
token status, registration, one correction, its own lookup and the verification of its credential. No HTML is
read and no path is written here but /llms.txt, the convention's own address.
"""

from __future__ import annotations

import re

import requests
from e2e_support import agent_token, buy, unique

INSTRUCTIONS_LINK = re.compile(r"\[([^\]]*instructions[^\]]*)\]\((https?://[^)\s]+)\)", re.IGNORECASE)


class Agent:
    """What an agent holds: the base URL and its token. Everything else it learns from the registry."""

    def __init__(self, base_url: str, token: str):
        self.base_url, self.token = base_url, token
        self.http = requests.Session()
        self.http.trust_env = False

    def get(self, url: str, **kwargs) -> requests.Response:
        return self.http.get(url, timeout=15, **kwargs)

    def json(self, answer: requests.Response) -> dict:
        assert answer.headers["content-type"].startswith("application/json"), answer.headers["content-type"]
        return answer.json()

    def call(self, step: dict, body: dict | None = None, **placeholders: str) -> requests.Response:
        url = step["url"].format(**{key: requests.utils.quote(value, safe="") for key, value in placeholders.items()})
        headers = {"Authorization": f"Bearer {self.token}"} if step.get("auth") == "bearer" else {}
        return self.http.request(step["method"], url, json=body, headers=headers, timeout=15)


def test_an_agent_registers_itself_from_llms_txt(registry):
    holder = buy(registry)
    agent = Agent(registry.url, agent_token(registry, holder.token))

    # /llms.txt, then the instructions it links to.
    llms = agent.get(agent.base_url + "/llms.txt")
    assert llms.status_code == 200 and llms.headers["content-type"].startswith("text/markdown")
    label, instructions_url = INSTRUCTIONS_LINK.search(llms.text).groups()
    assert "JSON" in label
    instructions = agent.json(agent.get(instructions_url))
    steps = {step["action"]: step for step in instructions["steps"]}
    assert list(steps) == ["token_status", "register", "correct", "lookup", "verify"]

    # 1. What can the token do?
    status = agent.json(agent.call(steps["token_status"]))
    assert status["mode"] == "new" and status["credential"] == "agent"
    assert status["next_step"]["url"] == steps["register"]["url"]

    # 2. Register: the required fields, with values chosen from what the instructions allow.
    fields = {f["name"]: f for f in instructions["fields"]["required"] + instructions["fields"]["optional"]}
    body = {name: instructions["example"][name] for name in status["next_step"]["required_fields"]}
    name = "Autodidact " + unique()
    body["agent_name"] = name
    body["declared_ontological_status"] = fields["declared_ontological_status"]["allowed_values"][4]
    assert len(name) <= fields["agent_name"]["max_length"]
    created = agent.call(steps["register"], body)
    assert created.status_code == 201, created.text
    record = agent.json(created)
    public_id = record["public_id"]
    assert public_id.startswith("GS-BC-A-") and record["edit_source"] == "agent"
    assert "private_url" not in record  # the private record is the holder's

    # 3. Correct once: only the field that changes.
    corrected = agent.call(steps["correct"], {"place_city": "Launceston"})
    assert corrected.status_code == 200, corrected.text
    assert agent.json(corrected)["edits_left"] == instructions["rules"]["max_submissions"] - 2

    # 4. Look itself up.
    looked_up = agent.json(agent.call(steps["lookup"], public_id=public_id))
    assert looked_up["agent_name"] == name and looked_up["public_id"] == public_id
    assert looked_up["declared_ontological_status"] == body["declared_ontological_status"]
    assert looked_up["amendments"] == {"human": 0, "agent": 2, "total": 2}
    assert looked_up["location"]["city"] is None  # the city stays withheld unless the holder makes it public

    # 5. Verify its credential.
    verified = agent.json(agent.call(steps["verify"], public_id=public_id))
    assert verified["valid"] is True, verified
