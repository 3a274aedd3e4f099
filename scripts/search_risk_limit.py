"""Rule search_risk_limit: the gamma that meets the CVaR limit on a portfolio, and the mean-CVaR frontier."""
from mfg_finance.io import read_yaml, write_json, write_text
from mfg_finance.logs import configure_logging
from mfg_finance.market_making.multi_asset import parameters_from_document
from mfg_finance.market_making.risk_limit import cvar_frontier_search
from mfg_finance.report.figures.multi_asset import plot_frontier

log = configure_logging(snakemake.log[0])
p = snakemake.params
rl = p.risk_limit
doc = read_yaml(snakemake.input[0])
frontier, choice = cvar_frontier_search(
    parameters_from_document(doc), strategy=rl["strategy"],
    gammas=[g * doc["order_size"] for g in rl["gammas"]], cvar_level=rl["cvar_level"], max_loss=rl["max_loss"],
    max_loss_sd=None if rl["max_loss"] is not None else rl["max_loss_sd"],
    dt_s=p.dt_s, n_paths=rl["n_paths"], seed=rl["seed"], table_dt_s=p.table_dt_s, order_size=doc["order_size"],
    fill_model=p.fill_model, n_bisect=rl["n_bisect"])
# report gamma per share of order_size, as configured
frontier["gamma"] = frontier["gamma"] / doc["order_size"]
if choice.get("gamma") is not None:
    choice["gamma"] = choice["gamma"] / doc["order_size"]
choice.update(portfolio=doc["portfolio"], tickers=doc["tickers"], units={"loss": "BRL", "gamma": "1/BRL"})
frontier.insert(0, "portfolio", doc["portfolio"])
write_text(snakemake.output.frontier, frontier.to_csv(index=False, float_format="%.10g"))
write_json(snakemake.output.choice, choice)
plot_frontier(frontier, choice, snakemake.output.figure, title=f"{doc['portfolio']}: mean PnL vs CVaR")
log.info("%s: %s", doc["portfolio"], choice)
