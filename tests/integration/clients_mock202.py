#!/usr/bin/python3
"""clients_mock202.py - the clients scenario (clientsuite.py) against the
librdkafka 2.0.2 mock cluster (tests/peers/mock_cluster, 3 brokers)."""
import clientsuite

clientsuite.run("2.0.2")
