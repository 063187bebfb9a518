"""lancedb's REST namespace client loads on first use, not with the store (start-up time)."""

from __future__ import annotations

import subprocess
import sys


def test_the_namespace_client_loads_when_first_asked() -> None:
    code = (
        "import sys\n"
        "from sensorium.store import LanceStore\n"
        "import lancedb\n"
        "client = sys.modules['lance_namespace_urllib3_client']\n"
        "assert '__getattr__' in vars(client), 'loaded with the store'\n"
        "assert 'lance_namespace_urllib3_client.api' not in sys.modules\n"
        "from lance_namespace_urllib3_client import ApiClient, TableApi\n"
        "assert 'lance_namespace_urllib3_client.api' in sys.modules\n"
        "assert client.__version__ and ApiClient.__module__.startswith(client.__name__)\n"
        "import lance_namespace, pytest\n"
        "with pytest.raises(AttributeError): client.no_such_name\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
