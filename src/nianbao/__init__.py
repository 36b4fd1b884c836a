"""nianbao: 政府信息公开工作年度报告 intake forms, checks and batch reports."""

__version__ = "0.1.0"
