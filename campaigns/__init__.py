"""Web3 task verification: Binance asks whether a user completed a task; paysvc answers from its
payment records. See campaigns/README.md."""
