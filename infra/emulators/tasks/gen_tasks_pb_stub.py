"""Write tasks_emulator/pb.pyi: types of the protobuf classes pb.py exposes (pbstub).

.venv/bin/python infra/emulators/tasks/gen_tasks_pb_stub.py [--check]
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # infra/emulators, for pbstub

import pbstub  # noqa: E402

from tasks_emulator import pb  # noqa: E402

TARGET = pbstub.Target(
    pb=pb,
    package="google.cloud.tasks.v2",
    stub=HERE / "tasks_emulator/pb.pyi",
    script="infra/emulators/tasks/gen_tasks_pb_stub.py",
    library="google-cloud-tasks",
)

if __name__ == "__main__":
    sys.exit(pbstub.main(TARGET))
