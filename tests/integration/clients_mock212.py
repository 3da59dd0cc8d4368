#!/usr/bin/python3
"""clients_mock212.py - the clients scenario (clientsuite.py) against the
librdkafka 2.12 mock cluster (tests/peers/mock-broker.js, 3 brokers)."""
import clientsuite

clientsuite.run("2.12")
