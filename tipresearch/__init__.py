"""tipresearch: how rating police leaders by cases solved changes which reports become cases.

The model, data loading, experiments, estimation and plotting behind the notebook
collection. The source is the US Embassy Beijing cable 09BEIJING2594 (10 September
2009), cited by paragraph.
"""

__version__ = "0.1.0"
