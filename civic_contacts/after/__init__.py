"""after"""
