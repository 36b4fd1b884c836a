"""``python -m nianbao``."""

from nianbao._entry import main

main()
