"""The monthly AWS cost of running dd0c/cost (docs/deploy.md): `python docs/cost_model.py` prints
the tables there. Every price and assumption is one line below; change them and rerun."""

# Monthly AWS cost of running dd0c/cost, us-east-1, arm64 Lambda; prices per unit.
P = {
    "nat_hour": 0.045,
    "nat_gb": 0.045,  # snapshot rates.json ec2/nat_gateway_*
    "acu_hour": 0.12,  # snapshot rds/aurora_serverless_v2_acu_hour
    "aurora_gb_month": 0.10,
    "aurora_io_million": 0.20,  # AWS list (Aurora Standard)
    "lambda_req_million": 0.20,
    "lambda_arm_gbs": 0.0000133334,  # snapshot lambda/*
    "sqs_std_million": 0.40,
    "sqs_fifo_million": 0.50,
    "pipes_million": 0.40,  # AWS list
    "logs_gb": 0.50,
    "logs_gb_month": 0.03,
    "secrets": 0.40,
    "alarm": 0.10,
    "metric": 0.30,
    "xray_million": 5.00,
}
HOURS = 730
SECONDS = HOURS * 3600


def monthly(n):
    rows = []

    def add(what, usd, how):
        return rows.append((what, usd, how))

    add(
        "NAT gateway (1, hours) + its public IPv4",
        HOURS * (P["nat_hour"] + 0.005),
        f"{HOURS} h x (${P['nat_hour']} + $0.005)",
    )
    gb_nat = n * 2e3 / 1e9  # ~2 KB per event leaves the VPC through NAT (SQS sends, Secrets Manager reads)
    add("NAT gateway (data)", gb_nat * P["nat_gb"], f"{gb_nat:,.1f} GB x ${P['nat_gb']}")
    rate = n / SECONDS
    acu = 0.5 if rate < 5 else 2.0  # min capacity idles at 0.5 ACU; ~40 events/s keeps ~2 ACU busy (assumed)
    add("Aurora Serverless v2 (ACU)", acu * HOURS * P["acu_hour"], f"{acu} ACU x {HOURS} h x ${P['acu_hour']}")
    gb_db = 1 + n * 1.5e3 / 1e9  # ~1.5 KB per stored cost event (row + index), a month kept
    add("Aurora storage", gb_db * P["aurora_gb_month"], f"{gb_db:,.1f} GB x ${P['aurora_gb_month']}")
    io = n * 10
    add(
        "Aurora I/O",
        io / 1e6 * P["aurora_io_million"],
        f"{io / 1e6:,.0f} M I/O (10 per event) x ${P['aurora_io_million']}/M",
    )
    # per queue: one send per event, receive and delete in batches of 10 -> 1.2 requests/event
    add(
        "SQS landing queue (standard)",
        1.2 * n / 1e6 * P["sqs_std_million"],
        f"1.2 requests/event x {n / 1e6:,.0f} M x ${P['sqs_std_million']}/M",
    )
    add("EventBridge Pipe", n / 1e6 * P["pipes_million"], f"{n / 1e6:,.0f} M x ${P['pipes_million']}/M")
    fifo = 1.2 * n * 2 + 4 * 650_000  # ingest + cost-events; + idle long polling of 4 queues
    add(
        "SQS FIFO (ingest, cost-events)",
        fifo / 1e6 * P["sqs_fifo_million"],
        f"{fifo / 1e6:,.1f} M requests (incl. 2.6 M idle polls) x ${P['sqs_fifo_million']}/M",
    )
    inv = 2 * n / 10  # normalize + score, batches of 10
    add(
        "Lambda requests",
        inv / 1e6 * P["lambda_req_million"],
        f"{inv / 1e6:,.1f} M invocations x ${P['lambda_req_million']}/M",
    )
    gbs = n / 10 * (0.10 + 0.05) * 0.5  # 100 ms normalize + 50 ms score per batch, 0.5 GB
    add("Lambda duration", gbs * P["lambda_arm_gbs"], f"{gbs:,.0f} GB-s x ${P['lambda_arm_gbs']}")
    per_fn = n / 10
    traced = 2 * min(per_fn, SECONDS + 0.05 * max(0.0, per_fn - SECONDS))  # 1/s reservoir + 5 %
    traced = max(0.0, traced - 100_000)
    add("X-Ray traces", traced / 1e6 * P["xray_million"], f"{traced / 1e6:,.2f} M traces x ${P['xray_million']}/M")
    gb_logs = inv * 1e3 / 1e9
    add(
        "CloudWatch Logs",
        gb_logs * (P["logs_gb"] + P["logs_gb_month"]),
        f"{gb_logs:,.2f} GB (1 KB/invocation) x ${P['logs_gb'] + P['logs_gb_month']}",
    )
    add(
        "CloudWatch metrics + alarms",
        30 * P["metric"] + 10 * P["alarm"],
        f"~30 EMF metrics x ${P['metric']} + ~10 alarms x ${P['alarm']}",
    )
    add("Secrets Manager", 3 * P["secrets"], f"3 secrets x ${P['secrets']}")
    return rows


for n in (1_000_000, 100_000_000):
    rows = monthly(n)
    print(f"\n{n:,} events/month")
    for what, usd, how in rows:
        print(f"| {what} | {how} | ${usd:,.2f} |")
    print(f"| **total** | | **${sum(u for _, u, _ in rows):,.2f}** |")
