"""Raw protobuf message classes used by the emulator.

google-cloud-tasks ships proto-plus wrappers; `.pb()` returns the upb message classes behind
them, which the emulator stores and serves directly (they have HasField, CopyFrom and the
well-known-type helpers). Neither package ships type information for these classes, so
pb.pyi, written from their descriptors by ../gen_tasks_pb_stub.py, describes them to mypy.
"""

from google.cloud.tasks_v2.types import cloudtasks, queue, target, task
from google.protobuf import duration_pb2, empty_pb2, field_mask_pb2, message, timestamp_pb2
from google.rpc import status_pb2

Message = message.Message
Timestamp = timestamp_pb2.Timestamp
Duration = duration_pb2.Duration
FieldMask = field_mask_pb2.FieldMask
Empty = empty_pb2.Empty
Status = status_pb2.Status

Queue = queue.Queue.pb()
RateLimits = queue.RateLimits.pb()
RetryConfig = queue.RetryConfig.pb()
Task = task.Task.pb()
Attempt = task.Attempt.pb()
HttpRequest = target.HttpRequest.pb()
OidcToken = target.OidcToken.pb()

ListQueuesRequest = cloudtasks.ListQueuesRequest.pb()
ListQueuesResponse = cloudtasks.ListQueuesResponse.pb()
GetQueueRequest = cloudtasks.GetQueueRequest.pb()
CreateQueueRequest = cloudtasks.CreateQueueRequest.pb()
UpdateQueueRequest = cloudtasks.UpdateQueueRequest.pb()
DeleteQueueRequest = cloudtasks.DeleteQueueRequest.pb()
PurgeQueueRequest = cloudtasks.PurgeQueueRequest.pb()
PauseQueueRequest = cloudtasks.PauseQueueRequest.pb()
ResumeQueueRequest = cloudtasks.ResumeQueueRequest.pb()
ListTasksRequest = cloudtasks.ListTasksRequest.pb()
ListTasksResponse = cloudtasks.ListTasksResponse.pb()
GetTaskRequest = cloudtasks.GetTaskRequest.pb()
CreateTaskRequest = cloudtasks.CreateTaskRequest.pb()
DeleteTaskRequest = cloudtasks.DeleteTaskRequest.pb()
RunTaskRequest = cloudtasks.RunTaskRequest.pb()

STATE_RUNNING = int(queue.Queue.State.RUNNING)
STATE_PAUSED = int(queue.Queue.State.PAUSED)
VIEW_BASIC = int(task.Task.View.BASIC)
VIEW_FULL = int(task.Task.View.FULL)
# HttpMethod values in enum order; index 0 (unspecified) means POST, as in production.
HTTP_METHODS = tuple(m.name for m in target.HttpMethod)
METHOD_POST = int(target.HttpMethod.POST)
METHOD_PUT = int(target.HttpMethod.PUT)
METHOD_PATCH = int(target.HttpMethod.PATCH)
