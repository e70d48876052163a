"""Installable package of the Titanic fairness pipeline.

Distributed runs install it on every worker so that the custom components
and the model code import there. Exact versions live in requirements.lock.
"""

from setuptools import find_packages, setup

setup(
    name="titanic-fairness-pipeline",
    version="0.1.0",
    description="A TFX pipeline that tunes, trains, evaluates for fairness "
    "and pushes a Titanic survival model.",
    python_requires=">=3.10,<3.11",
    packages=find_packages(include=["pipeline", "pipeline.*", "components",
                                    "components.*"]),
    package_data={"pipeline": ["schema/*.pbtxt", "policies/*.toml"]},
    py_modules=["runner"],
    install_requires=[
        "tfx==1.16.0",
        "keras-tuner>=1.4,<1.5",
        "dill",
        "tabulate",
        "plotly",
        "pandas",
        "pydantic>=2",
        "scikit-learn",
        "tomli",
        # fairness-indicators==0.47.0 is installed with --no-deps: its
        # tensorflow-hub>=0.16.1 conflicts with TFX 1.16 (requirements.in).
    ],
)
