"""Suite-wide settings: no test may depend on how fast this machine happens to be."""

from hypothesis import HealthCheck, settings

# The keyring-file fixtures, shared by tests/test_vault_file.py, test_vault_format.py, test_vault_keys.py.
pytest_plugins = ["tests.vault_fixtures"]

# Hypothesis' default 200 ms deadline per example, and its too_slow health check, fail tests on a
# loaded 2-core machine for reasons that have nothing to do with the code under test.
settings.register_profile("azcreds", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("azcreds")
