# Conveyor local development. `make` alone lists the targets.
# State (RabbitMQ, PostgreSQL, maildir, logs, pids) lives in .conveyor/ (override: CONVEYOR_STATE).

SHELL := /bin/bash
# Swift lives in /opt/swift on this kind of machine; make it findable even when PATH lacks it.
export PATH := $(PATH):/opt/swift/usr/bin
.DEFAULT_GOAL := help
.NOTPARALLEL:

SWIFT    ?= swift
INFRA    := deploy/local/infra.sh
SERVICES := deploy/local/services.sh
STATE    ?= $(or $(CONVEYOR_STATE),$(CURDIR)/.conveyor)

.PHONY: help install build infra-up infra-down up down status demo test fuzz web-test monitoring-test packaging-test backup-test cluster-test rolling-test chaos bench bench-scale bench-scheduler clean

help: ## Show this help
	@echo "Conveyor targets:"
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-11s %s\n", $$1, $$2}'

install: ## Install missing system packages (apt: rabbitmq, postgresql, libs, aiosmtpd)
	@bash $(INFRA) install

build: ## Build all executables (swift build, debug)
	$(SWIFT) build

infra-up: ## Start RabbitMQ :5672, PostgreSQL :5433 and the SMTP sink :2525
	@bash $(INFRA) up

infra-down: ## Stop the local infrastructure
	@bash $(INFRA) down

up: install build infra-up ## install + build + infra up + start the seven services
	@bash $(SERVICES) start

down: ## Stop the services, then the infrastructure
	@bash $(SERVICES) stop
	@bash $(INFRA) down

status: ## Show infrastructure and service status
	@bash $(INFRA) status || true
	@bash $(SERVICES) status || true

demo: up ## Bring everything up and run the demo (deploy/local/demo.sh)
	@bash deploy/local/demo.sh

test: ## Infra up, build, start services (RUNNER_SLOTS=1), swift test; TEST_ARGS=... passes arguments
	@bash deploy/local/test.sh

fuzz: ## Fuzz the running gateway with schemathesis against its OpenAPI document, all phases (make up first)
	@bash deploy/local/fuzz.sh full

web-test: ## The web page in a real headless Chromium against the running services (make up first)
	@bash deploy/local/web-test.sh

monitoring-test: ## Check deploy/monitoring with promtool and a real Prometheus scraping the running services (make up first)
	@bash deploy/local/monitoring-test.sh

packaging-test: ## Check deploy/systemd (systemd-analyze verify), deploy/kubernetes (schemas), deploy/compose and deploy/docker
	@bash deploy/local/packaging-test.sh

backup-test: ## Back up the running system, restore it into a fresh state folder, read every table and object back (make up first)
	@bash deploy/local/backup-test.sh

cluster-test: ## The services on a 3-node RabbitMQ cluster with quorum queues; node 1 stopped under 2000 jobs (CLUSTER_JOBS=...)
	@bash deploy/local/cluster-test.sh

rolling-test: ## Two instances of every service, each restarted in turn under 1000 jobs with e-mail (ROLLING_JOBS=...)
	@bash deploy/local/rolling-test.sh

chaos: ## The chaos suite: 2000 jobs with e-mail while every service is killed in turn, RabbitMQ and PostgreSQL restart, SMTP is away 5 min (CHAOS_ARGS=...)
	@bash deploy/local/chaos.sh $(CHAOS_ARGS)

bench: ## Release build + services + conveyor-bench (BENCH_JOBS=2000, BENCH_ARGS=...)
	@bash deploy/local/bench.sh $(BENCH_ARGS)

bench-scale: ## Submit latency and job-list paging on a fresh database, then with SCALE_JOBS (1,000,000) finished jobs added
	@bash deploy/local/bench-scale.sh

bench-scheduler: ## Scheduler decisions with 1,000,000 queued jobs and 1,000 workers, then a failover onto 1,000,000 queued jobs
	@bash deploy/local/bench-scheduler.sh

clean: ## Stop everything and delete the .conveyor state
	@bash $(SERVICES) stop
	@CONVEYOR_STATE="$(STATE)" bash $(INFRA) reset
