"""``python -m nianbao``."""

from nianbao.cli import main

main()
