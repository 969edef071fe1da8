"""``aftercare simulate``: serve the OA and WeCom APIs from the generator's state."""

from __future__ import annotations

import argparse
import sys

from sources.wechat_sim.server import make_server
from sources.wechat_sim.simulator import Simulator
from sources.wechat_sim.state import StateError, load_state, resolve_state_dir


def simulate_command(args: argparse.Namespace) -> int:
    try:
        folder = resolve_state_dir(args.data)
        state = load_state(folder)
        simulator = Simulator.build(
            state,
            faults=float(args.faults or 0.0),
            callback_url=args.callback,
            seed=getattr(args, "seed", 0) or 0,
        )
    except (StateError, ValueError) as exc:
        print(f"aftercare simulate: {exc}", file=sys.stderr)
        return 2
    oa, corp = state.oa, state.wecom
    print(
        f"WeChat/WeCom simulator on http://{args.host}:{args.port}  (state {folder})\n"
        f"  Official Account appid {oa.appid}: {oa.subscribed_total()} followers, {len(oa.templates)} "
        "templates\n"
        f"  WeCom corpid {corp.corpid}: {len(corp.follow_users())} consultants, {len(corp.contacts)} "
        "customers\n"
        f"  faults {args.faults or 0}, callback {args.callback or '(none)'}; controls under /__sim/ ; Ctrl-C "
        "stops",
        flush=True,
    )
    make_server(simulator, args.host, args.port).run()
    return 0
